"""The rules brain, one module per phase of the conversation; `brain.RulesBrain` is the entry point."""
