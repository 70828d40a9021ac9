"""Domain models: what the business logic works with, independent of DynamoDB and of HTTP."""
