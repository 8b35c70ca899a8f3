"""IAM policy semantics: grammar, matching, conditions, evaluation. Pure."""
