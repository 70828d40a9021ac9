"""The notification channels' AWS clients (SES, Cognito, Secrets Manager) and the signed unsubscribe links."""
