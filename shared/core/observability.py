"""The one structured logger. It never logs events, headers or bodies: tokens and secrets travel in them."""

from aws_lambda_powertools import Logger

logger = Logger(log_uncaught_exceptions=True)
