//! OpenLDAP command-line tools against ccdir (being written).
