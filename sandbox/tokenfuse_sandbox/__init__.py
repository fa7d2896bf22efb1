"""The sandbox: tokenfuse with no AWS account (moto plus what it lacks). Dev only, never deployed."""
