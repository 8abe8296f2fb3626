"""Blueprints: thin views that turn use-case outcomes into responses."""
