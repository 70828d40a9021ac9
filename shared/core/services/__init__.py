"""Business logic: plain functions over repositories, unaware of API Gateway."""
