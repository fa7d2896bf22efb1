"""tokenfuse: a circuit breaker for generative-AI token spend on AWS (the domain package)."""

__version__ = "0.1.0"
