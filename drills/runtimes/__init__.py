"""Where restores run: the contract and its plain data (spec), Docker (docker), and a scripted
stand-in for unit tests (stub)."""
