package schemas

// NarrowedDisagrees is narrowedDisagrees, for the external tests.
var NarrowedDisagrees = narrowedDisagrees

// ProvedInPlaceDisagrees is provedInPlaceDisagrees, for the external tests.
var ProvedInPlaceDisagrees = provedInPlaceDisagrees
