"""hookline on Google Cloud: GCS storage (:mod:`.storage`) and CloudEvent parsing
(:mod:`.events`).

Importing this package imports no Google SDK; :mod:`.storage` imports
google-cloud-storage when a client is first needed.
"""
