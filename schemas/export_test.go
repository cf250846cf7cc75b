package schemas

// NarrowedDisagrees is narrowedDisagrees, for the external tests.
var NarrowedDisagrees = narrowedDisagrees

// OwnVerdicts is ownVerdicts, for the external tests.
type OwnVerdicts = ownVerdicts

// ProvedInPlaceDisagrees is provedInPlaceDisagrees, for the external tests.
var ProvedInPlaceDisagrees = provedInPlaceDisagrees
