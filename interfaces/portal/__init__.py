"""The guest portal (P1–P4): phone login, contact details and consents, unsubscribe, exports."""
