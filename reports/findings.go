package reports

import (
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Formats of `eventaudit schemas check`, beside table and json: SARIF for
// code scanning, and GitHub's workflow commands, which annotate a pull
// request's files without an upload step.
const (
	FormatSARIF  = "sarif"
	FormatGitHub = "github"
)

// FindingFormats are the formats of schemas check.
func FindingFormats() []string { return []string{FormatTable, FormatJSON, FormatSARIF, FormatGitHub} }

// Finding is one problem `eventaudit schemas check` found in a schema file.
type Finding struct {
	File    string `json:"file"`
	Pointer string `json:"pointer"`
	// Line and Column are where Pointer points in the file, 1-based; the
	// column counts characters.
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// String is file:line:column, as compilers print it, so that terminals
// and editors jump to the place.
func (f Finding) String() string {
	if f.Pointer == "" {
		return fmt.Sprintf("%s:%d:%d: %s (%s)", f.File, f.Line, f.Column, f.Message, f.Rule)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s (%s)", f.File, f.Line, f.Column, f.Pointer, f.Message, f.Rule)
}

// Findings reports a schemas check of checked schemas, one line per
// finding, in the order given; version names the tool in SARIF.
func Findings(w io.Writer, format string, findings []Finding, checked int, version string) error {
	if err := checkFormat(format, FindingFormats()); err != nil {
		return err
	}
	switch format {
	case FormatJSON:
		if findings == nil {
			findings = []Finding{}
		}
		return writeJSON(w, findings)
	case FormatSARIF:
		return writeJSON(w, sarifLog(findings, version))
	case FormatGitHub:
		for _, f := range findings {
			if _, err := fmt.Fprintln(w, githubCommand(f)); err != nil {
				return err
			}
		}
		return nil
	}
	files := map[string]bool{}
	for _, f := range findings {
		files[f.File] = true
		if _, err := fmt.Fprintln(w, f); err != nil {
			return err
		}
	}
	var err error
	if len(findings) == 0 {
		_, err = fmt.Fprintf(w, "%d schemas checked: no findings\n", checked)
	} else {
		_, err = fmt.Fprintf(w, "%d schemas checked: %d findings in %d files\n", checked, len(findings), len(files))
	}
	return err
}

// githubCommand is one ::error workflow command. Its data escapes %, CR
// and LF; its properties also escape : and , (actions/toolkit's
// command.ts), or a file name with a comma would end the property.
func githubCommand(f Finding) string {
	data := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	prop := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	msg := f.Message
	if f.Pointer != "" {
		msg = f.Pointer + ": " + msg
	}
	return fmt.Sprintf("::error file=%s,line=%d,col=%d,title=%s::%s",
		prop.Replace(githubPath(f.File)), f.Line, f.Column, prop.Replace("eventaudit "+f.Rule), data.Replace(msg))
}

// githubPath is a file as GitHub names it: relative to the repository,
// without a leading "./".
func githubPath(file string) string {
	for strings.HasPrefix(file, "./") {
		file = file[2:]
	}
	return file
}

// The SARIF 2.1.0 log: only the properties eventaudit fills.
type (
	sarifReport struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool       sarifTool     `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID               string       `json:"id"`
		ShortDescription sarifMessage `json:"shortDescription"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex int             `json:"ruleIndex"`
		Level     string          `json:"level"`
		Message   sarifMessage    `json:"message"`
		Locations []sarifLocation `json:"locations"`
	}
	sarifLocation struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region struct {
				StartLine   int `json:"startLine"`
				StartColumn int `json:"startColumn"`
			} `json:"region"`
		} `json:"physicalLocation"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifLogical struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// ruleHelp says what each lint rule checks, for SARIF's rule list.
var ruleHelp = map[string]string{
	"compile":       "the schema compiles",
	"self":          "the schema has a self block",
	"self-name":     "self.name matches the schema's folder",
	"self-version":  "self.version matches the file name",
	"self-vendor":   "an Iglu self.vendor matches its path",
	"self-format":   "an Iglu self.format matches its path",
	"version":       "the file name is a MAJOR-MINOR version",
	"duplicate":     "no two schemas share a name and version in one plan",
	"event-name":    "event names follow the plan's naming rules",
	"property-name": "property names follow the plan's naming rules",
	"description":   "events and properties have descriptions",
	"data-type":     "properties use only the plan's data types",
}

func sarifLog(findings []Finding, version string) sarifReport {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: "eventaudit", Version: version,
			InformationURI: "https://github.com/eventaudit/eventaudit", Rules: []sarifRule{}}},
		ColumnKind: "unicodeCodePoints",
		Results:    []sarifResult{},
	}
	index := map[string]int{}
	for _, f := range findings {
		i, ok := index[f.Rule]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			index[f.Rule] = i
			help := ruleHelp[f.Rule]
			if help == "" {
				help = f.Rule
			}
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: f.Rule, ShortDescription: sarifMessage{help}})
		}
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = sarifURI(f.File)
		loc.PhysicalLocation.Region.StartLine = max(f.Line, 1)
		loc.PhysicalLocation.Region.StartColumn = max(f.Column, 1)
		if f.Pointer != "" {
			loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Pointer, Kind: "member"}}
		}
		run.Results = append(run.Results, sarifResult{RuleID: f.Rule, RuleIndex: i, Level: "error",
			Message: sarifMessage{f.Message}, Locations: []sarifLocation{loc}})
	}
	return sarifReport{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
}

// sarifURI is a file as a URI reference: relative paths stay relative
// (code scanning resolves them against the repository), with spaces and
// the like percent-encoded; an s3:// location is already a URI.
func sarifURI(file string) string {
	if strings.Contains(file, "://") {
		return file
	}
	return (&url.URL{Path: githubPath(file)}).String()
}
