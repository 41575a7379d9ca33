"""Asterisk adapters of acd117: ARI client and Stasis app, AMI device state, test peer."""
