"""AsyncAPI 3 documents: as an input of the compiler (``*.asyncapi.yaml`` / ``*.asyncapi.json``)
and as an output (``gen-topics asyncapi``)."""
