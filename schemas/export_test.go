package schemas

// NarrowedDisagrees is narrowedDisagrees, for the external tests.
var NarrowedDisagrees = narrowedDisagrees
