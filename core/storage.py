"""What a media storage call may raise when the storage itself fails (not the caller's mistake).

Local files raise OSError; the S3 backend raises botocore's errors (a refused connection, a 5xx, a denied
request), which are no OSError. Code that must survive either catches STORAGE_ERRORS, so the same code
path serves both backends.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
