package oscal

// The types below are the subset of the OSCAL 1.2.1 JSON model our documents use. Field
// order is the model's, so documents read in the usual order; empty optional fields are
// left out, as the schema requires (an array present must have an item).

type property struct {
	Name    string `json:"name"`
	NS      string `json:"ns,omitempty"`
	Value   string `json:"value"`
	Class   string `json:"class,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

type link struct {
	Href      string `json:"href"`
	Rel       string `json:"rel,omitempty"`
	MediaType string `json:"media-type,omitempty"`
	Text      string `json:"text,omitempty"`
}

type metadata struct {
	Title        string     `json:"title"`
	LastModified string     `json:"last-modified"`
	Version      string     `json:"version"`
	OSCALVersion string     `json:"oscal-version"`
	Props        []property `json:"props,omitempty"`
	Remarks      string     `json:"remarks,omitempty"`
}

type status struct {
	State   string `json:"state"`
	Remarks string `json:"remarks,omitempty"`
}

type component struct {
	UUID        string     `json:"uuid"`
	Type        string     `json:"type"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Props       []property `json:"props,omitempty"`
	Status      status     `json:"status"`
}

type inventoryItem struct {
	UUID        string     `json:"uuid"`
	Description string     `json:"description"`
	Props       []property `json:"props,omitempty"`
	Links       []link     `json:"links,omitempty"`
}

type localDefinitions struct {
	Components     []component     `json:"components,omitempty"`
	InventoryItems []inventoryItem `json:"inventory-items,omitempty"`
}

type controlRef struct {
	ControlID    string   `json:"control-id"`
	StatementIDs []string `json:"statement-ids,omitempty"`
}

type controlSelection struct {
	Description     string       `json:"description,omitempty"`
	IncludeAll      *struct{}    `json:"include-all,omitempty"`
	IncludeControls []controlRef `json:"include-controls,omitempty"`
}

type reviewedControls struct {
	Description       string             `json:"description,omitempty"`
	ControlSelections []controlSelection `json:"control-selections"`
}

type subjectRef struct {
	SubjectUUID string `json:"subject-uuid"`
	Type        string `json:"type"`
	Title       string `json:"title,omitempty"`
}

type relevantEvidence struct {
	Href        string `json:"href,omitempty"`
	Description string `json:"description"`
}

type actor struct {
	Type      string `json:"type"`
	ActorUUID string `json:"actor-uuid"`
}

type origin struct {
	Actors []actor `json:"actors"`
}

type observation struct {
	UUID             string             `json:"uuid"`
	Title            string             `json:"title,omitempty"`
	Description      string             `json:"description"`
	Props            []property         `json:"props,omitempty"`
	Methods          []string           `json:"methods"`
	Origins          []origin           `json:"origins,omitempty"`
	Subjects         []subjectRef       `json:"subjects,omitempty"`
	RelevantEvidence []relevantEvidence `json:"relevant-evidence,omitempty"`
	Collected        string             `json:"collected"`
	Remarks          string             `json:"remarks,omitempty"`
}

type targetStatus struct {
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

type findingTarget struct {
	Type     string       `json:"type"`
	TargetID string       `json:"target-id"`
	Title    string       `json:"title,omitempty"`
	Props    []property   `json:"props,omitempty"`
	Status   targetStatus `json:"status"`
}

type relatedObservation struct {
	ObservationUUID string `json:"observation-uuid"`
}

type relatedRisk struct {
	RiskUUID string `json:"risk-uuid"`
}

type finding struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Props               []property           `json:"props,omitempty"`
	Target              findingTarget        `json:"target"`
	RelatedObservations []relatedObservation `json:"related-observations,omitempty"`
	RelatedRisks        []relatedRisk        `json:"related-risks,omitempty"`
	Remarks             string               `json:"remarks,omitempty"`
}

type risk struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Statement           string               `json:"statement"`
	Props               []property           `json:"props,omitempty"`
	Links               []link               `json:"links,omitempty"`
	Status              string               `json:"status"`
	Deadline            string               `json:"deadline,omitempty"`
	RelatedObservations []relatedObservation `json:"related-observations,omitempty"`
}

type result struct {
	UUID             string            `json:"uuid"`
	Title            string            `json:"title"`
	Description      string            `json:"description"`
	Start            string            `json:"start"`
	End              string            `json:"end,omitempty"`
	Props            []property        `json:"props,omitempty"`
	LocalDefinitions *localDefinitions `json:"local-definitions,omitempty"`
	ReviewedControls reviewedControls  `json:"reviewed-controls"`
	Observations     []observation     `json:"observations,omitempty"`
	Risks            []risk            `json:"risks,omitempty"`
	Findings         []finding         `json:"findings,omitempty"`
}

type importRef struct {
	Href    string `json:"href"`
	Remarks string `json:"remarks,omitempty"`
}

type assessmentResults struct {
	UUID       string      `json:"uuid"`
	Metadata   metadata    `json:"metadata"`
	ImportAP   importRef   `json:"import-ap"`
	Results    []result    `json:"results"`
	BackMatter *backMatter `json:"back-matter,omitempty"`
}

type hash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

type rlink struct {
	Href      string `json:"href"`
	MediaType string `json:"media-type,omitempty"`
	Hashes    []hash `json:"hashes,omitempty"`
}

type resource struct {
	UUID        string     `json:"uuid"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
	Props       []property `json:"props,omitempty"`
	RLinks      []rlink    `json:"rlinks,omitempty"`
	Remarks     string     `json:"remarks,omitempty"`
}

type backMatter struct {
	Resources []resource `json:"resources,omitempty"`
}

type selectSubject struct {
	SubjectUUID string `json:"subject-uuid"`
	Type        string `json:"type"`
}

type assessmentSubject struct {
	Type            string          `json:"type"`
	Description     string          `json:"description,omitempty"`
	IncludeSubjects []selectSubject `json:"include-subjects"`
}

type task struct {
	UUID        string     `json:"uuid"`
	Type        string     `json:"type"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	Props       []property `json:"props,omitempty"`
}

type assessmentPlan struct {
	UUID               string              `json:"uuid"`
	Metadata           metadata            `json:"metadata"`
	ImportSSP          importRef           `json:"import-ssp"`
	LocalDefinitions   *localDefinitions   `json:"local-definitions,omitempty"`
	ReviewedControls   reviewedControls    `json:"reviewed-controls"`
	AssessmentSubjects []assessmentSubject `json:"assessment-subjects,omitempty"`
	Tasks              []task              `json:"tasks,omitempty"`
	BackMatter         *backMatter         `json:"back-matter,omitempty"`
}
