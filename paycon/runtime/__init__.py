"""Process wiring: the service, the console session, the demo, the embedded mock gateways."""
