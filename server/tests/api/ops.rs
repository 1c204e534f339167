//! Statistics, health, metrics, OpenAPI.
