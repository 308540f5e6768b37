"""The case workflow: petitions, petitioners, their events, and the services that change them."""
