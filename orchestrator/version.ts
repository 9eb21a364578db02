/** sandfarm's version, as package.json says; recorded in each run's provenance. */
export const SANDFARM_VERSION = "0.1.0";
