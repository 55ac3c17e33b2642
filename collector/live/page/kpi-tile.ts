/**
 * A tile of the row beside each site's live PUE, as the server hands it to the page: built from
 * the KPI modules' `views.live` declarations (live-page.ts), in their order, since browser code
 * cannot read the registry.
 */
export interface KpiTile {
  readonly kpi: string;
  /** Preference order: the first with a value, else the first present (the tile says why it has none). */
  readonly windows: readonly string[];
  /** Catalogue keys of its heading, joined by ` · `. */
  readonly label: readonly string[];
  /** A second figure written under the value, by its KPI's name. */
  readonly beside?: { readonly kpi: string; readonly windows: readonly string[] };
}
