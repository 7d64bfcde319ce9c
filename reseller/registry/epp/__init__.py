"""EPP (RFC 5730-5734): the wire format shared by our registry client and the sandbox
registry's EPP server."""
