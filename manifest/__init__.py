"""The Teams app package: manifest template, icons, da/en strings and the build."""
