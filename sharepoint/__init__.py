"""SharePoint as the system of record: a Microsoft Graph client on aiohttp, the list and folder
the agreements go to, the outbox syncer and the summary document.

Nothing here imports botbuilder. ``python -m sharepoint --help`` lists the admin commands.
"""
