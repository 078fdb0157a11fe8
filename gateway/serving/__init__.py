"""Request handling behind the gateway's routes: one module per concern."""
