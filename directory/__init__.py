"""Entra ID, the municipality's directory, read through Microsoft Graph: who is whose
manager, which department a user is in, and which security groups they belong to."""
