"""Reading import files (CSV, XLSX) and mapping their columns onto PetitionIn, without the database."""
