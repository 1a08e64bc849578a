"""Purchase-of-services projects (planning): the guiding catalogue, projects, targets."""
