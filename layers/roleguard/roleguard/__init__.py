"""AppStream Role Guard: checks the IAM roles of AppStream fleets, image builders and app block builders."""

__version__ = "0.1.0"
