"""Creates a bucket on an S3-compatible server and uploads files and Zarr stores to it.

    python s3_upload.py ENDPOINT BUCKET [--public] PATH...

Each PATH (a file, or a directory such as a Zarr store) goes to the bucket
under its own name. Credentials come from the environment (moto takes any).
With --public the bucket is readable without credentials, as public
datasets (ARCO-ERA5) are.
"""

import json
import os
import sys

import boto3

endpoint, bucket, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
public = "--public" in paths
paths = [p for p in paths if p != "--public"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
s3.create_bucket(Bucket=bucket)
extra = {}
if public:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/*"},
            {"Effect": "Allow", "Principal": "*", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{bucket}"},
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
extra = {"ACL": "public-read"} if public else {}
for path in paths:
    name = os.path.basename(path.rstrip("/"))
    if os.path.isdir(path):
        for folder, _, files in os.walk(path):
            for file in files:
                full = os.path.join(folder, file)
                key = name + "/" + os.path.relpath(full, path).replace(os.sep, "/")
                s3.upload_file(full, bucket, key, ExtraArgs=extra)
    else:
        s3.upload_file(path, bucket, name, ExtraArgs=extra)
print(f"uploaded {len(paths)} inputs to s3://{bucket}")
