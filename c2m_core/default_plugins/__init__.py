"""The core's own behaviour, registered as ordinary plugins so that each can be replaced."""
