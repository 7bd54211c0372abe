"""hookline on AWS: S3 storage (:mod:`.storage`) and Lambda event parsing (:mod:`.events`).

Importing this package imports no AWS SDK; :mod:`.storage` imports boto3 when a client is
first needed.
"""
