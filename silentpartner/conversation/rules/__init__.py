"""The rules brain, one module per part of the conversation; `router.RulesBrain` is the entry point."""
