//! `/api/events`.
