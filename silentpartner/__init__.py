"""Silent Partner: an AI phone receptionist for trades businesses."""

__version__ = "0.1.0"
