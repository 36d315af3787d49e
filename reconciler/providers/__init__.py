"""Providers: the only code that talks to a cloud. ``base`` holds the interfaces."""
