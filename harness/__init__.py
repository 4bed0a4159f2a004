"""Local stand-ins for the cloud, shared by the tests and the scripts (development only, never in the image).

``s3``: a moto S3 server on 127.0.0.1 (or an external endpoint) and a TCP proxy that can cut it off;
``faults``: an HTTP proxy that injects S3 faults; ``postgres``: a throwaway PostgreSQL + pgvector (pgserver);
``serve``: ``frs serve`` as a real process.
"""
