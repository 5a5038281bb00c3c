//! IAM policy language: parsing, validation and AWS's evaluation logic. Pure functions.
