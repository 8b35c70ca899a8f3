"""The only code that calls AWS: one module per service, ClientErrors turned into typed outcomes."""
