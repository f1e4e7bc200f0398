"""The home page: what needs the signed-in person's attention, gathered from every app, and the navigation's counts."""
