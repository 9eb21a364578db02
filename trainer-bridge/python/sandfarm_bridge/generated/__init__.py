"""Generated from proto/sandfarm/v1 by `npm run gen`; do not edit."""
