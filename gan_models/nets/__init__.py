"""Generator and discriminator networks, one module per family."""
