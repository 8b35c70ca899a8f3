"""Tickets: one ticket per problem in Jira (Cloud / Data Center), ServiceNow or OpsCenter.

Pure: `problems` (which findings are one problem), `render` (ticket text per
system). Edges: `http` (the HTTP client), `jira`, `servicenow`, `opscenter`
(one client each behind `base.TicketSystem`), `ledger` (the DynamoDB
problem -> ticket map). `sink.TicketSink` ties them to the Sink interface.
"""
