"""The conversation: a sans-I/O engine (`engine.Engine`), its guards and tools, the rules and chat brains,
and the one async driver every channel uses (`driver.ConversationDriver`)."""
