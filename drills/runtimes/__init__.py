"""Where restores run. `docker` is the runtime; its module documents the contract."""
