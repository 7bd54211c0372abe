"""hookline on Azure: Blob Storage (:mod:`.storage`) and Event Grid / blob-trigger parsing
(:mod:`.events`).

Importing this package imports no Azure SDK; :mod:`.storage` imports azure-storage-blob
(and azure-identity, only when it is needed) when a client is first needed.
"""
