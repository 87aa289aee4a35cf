//! The campaign file's model: what one region's notice fixes for one year's run.
//!
//! Every struct denies unknown keys so that a typo in a campaign file is reported
//! instead of silently ignored. Values a notice does not set stay `None`; the checks
//! turn those into warnings that the organiser must settle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::role::Role;

/// A whole campaign as loaded from its TOML file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub campaign: Meta,
    pub entry: Entry,
    pub levels: Vec<Level>,
    pub recommender_categories: Vec<RecommenderCategory>,
    pub form: Form,
    pub materials: Vec<Material>,
    pub eligibility: Eligibility,
    pub guidance: Vec<Guidance>,
    pub stages: Vec<Stage>,
    pub final_list: FinalList,
    pub publicity: Publicity,
    pub paper: Option<Paper>,
    /// Conflicts of interest: the organiser's 简称 of units beside the built-in table.
    pub conflicts: Conflicts,
}

/// `[conflicts]`: what the built-in rules for conflicts of interest cannot know.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Conflicts {
    /// 简称 → 全称 of units, e.g. `"新疆农科院" = "新疆农业科学院"`: an expert at the one is
    /// at the other. Added to (and overriding) the built-in table.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Stable identifier used in URLs and commands, e.g. `guangxi-2024`.
    pub id: String,
    /// Full title as the notice gives it.
    pub name: String,
    /// Short title for menus and lists.
    pub short_name: String,
    pub region: String,
    pub year: i32,
    /// The organising bodies (主办单位), in the notice's order.
    pub organizers: Vec<String>,
    /// The name of the body that receives applications at the top of the chain.
    pub office: String,
    /// Where the rules come from: the notice's title, number and date.
    pub source: String,
    /// Prefix of application numbers (`ZMKJ` + year + sequence in the 新疆 manual).
    #[serde(default = "default_number_prefix")]
    pub number_prefix: String,
    /// How many people are finally named (10 in 广西, 20 in 东莞 and 新疆).
    pub winners: u32,
}

impl Campaign {
    /// The award as the notices name it, from the campaign's name without its “活动”
    /// ending: “第二届东莞“最美科技工作者”” from “第二届东莞“最美科技工作者”学习宣传活动”.
    /// Titles of the 汇总表, the 考察材料 and the 推荐表's watermark start with it.
    pub fn award(&self) -> &str {
        let name = self.campaign.name.trim();
        [
            "学习宣传活动",
            "选树宣传活动",
            "宣传活动",
            "评选活动",
            "活动",
        ]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
    }
}

fn default_number_prefix() -> String {
    "ZMKJ".to_owned()
}

/// How an application enters a recommender's channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryMode {
    /// The recommender issues 推荐码 up to its quota; no individual applications.
    RecommendationCode,
    /// The applicant picks a recommender from the campaign's list.
    Open,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub mode: EntryMode,
    /// The notice's words on it, shown to applicants.
    #[serde(default)]
    pub note: Option<String>,
}

/// A deadline in the campaign's local time, e.g. `2024-03-26T23:59:59+08:00`.
pub type Deadline = toml::value::Datetime;

/// One step of the chain an application climbs.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub key: String,
    /// Name as the state text uses it, e.g. 推荐单位 in “推荐单位提交到自治区科协”.
    pub name: String,
    pub role: Role,
    /// The opinion this level writes before forwarding, e.g. 推荐单位意见.
    #[serde(default)]
    pub opinion: Option<String>,
    /// What the opinion must address, from the form's instructions.
    #[serde(default)]
    pub opinion_guidance: Option<String>,
    /// Skip this level when the applicant's work unit is itself the recommender (广西).
    #[serde(default)]
    pub merge_with_next_when_same_unit: bool,
    /// Where the personnel-relation unit differs from the actual employer, both give
    /// opinions (东莞 填表说明 10).
    #[serde(default)]
    pub employer_also_signs: bool,
    /// Last moment this level may act on (submit from) an application.
    #[serde(default)]
    pub deadline: Option<Deadline>,
}

/// Whether a rule is absolute or “原则上” (the organiser may grant a recorded exception).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strictness {
    #[default]
    Strict,
    /// “原则上”: enforced by default, exceptions granted by the organiser with a reason.
    InPrinciple,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecommenderCategory {
    pub key: String,
    pub name: String,
    /// Who belongs to this category, in the notice's words.
    #[serde(default)]
    pub members: Option<String>,
    /// The lower end of a range such as “2～3名”: shown as guidance, never enforced.
    #[serde(default)]
    pub quota_min: Option<u32>,
    /// How many candidates one recommender of this category may forward. `None` means
    /// the notice sets no limit.
    #[serde(default)]
    pub quota_max: Option<u32>,
    #[serde(default)]
    pub quota_strictness: Strictness,
    /// A 推荐组别 forced on this category's candidates (广西: 设区市 → 地市).
    #[serde(default)]
    pub group: Option<String>,
}

/// Every field the platform knows. A campaign picks, labels and limits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKey {
    IdNumber,
    Name,
    Sex,
    Ethnicity,
    BirthMonth,
    NativePlace,
    PoliticalStatus,
    Education,
    Degree,
    School,
    Major,
    EmployerAndPost,
    /// The actual employer where it differs from the personnel-relation unit (东莞 填表说明10):
    /// it then co-signs the work unit's opinion.
    ActualEmployer,
    Duties,
    Title,
    OfficePhone,
    Mobile,
    Email,
    Address,
    Postcode,
    Field,
    Group,
    Specialty,
    Resume,
    Deeds,
    Stories,
    Summary,
    Declaration,
    Academician,
    Photo,
    /// The answers to the campaign's eligibility questions (rows of key, 是/否); not a
    /// field a campaign lists, see `rules::eligibility`.
    Eligibility,
}

impl FieldKey {
    /// Every field key, in the order of the enum.
    pub const ALL: [FieldKey; 31] = [
        FieldKey::IdNumber,
        FieldKey::Name,
        FieldKey::Sex,
        FieldKey::Ethnicity,
        FieldKey::BirthMonth,
        FieldKey::NativePlace,
        FieldKey::PoliticalStatus,
        FieldKey::Education,
        FieldKey::Degree,
        FieldKey::School,
        FieldKey::Major,
        FieldKey::EmployerAndPost,
        FieldKey::ActualEmployer,
        FieldKey::Duties,
        FieldKey::Title,
        FieldKey::OfficePhone,
        FieldKey::Mobile,
        FieldKey::Email,
        FieldKey::Address,
        FieldKey::Postcode,
        FieldKey::Field,
        FieldKey::Group,
        FieldKey::Specialty,
        FieldKey::Resume,
        FieldKey::Deeds,
        FieldKey::Stories,
        FieldKey::Summary,
        FieldKey::Declaration,
        FieldKey::Academician,
        FieldKey::Photo,
        FieldKey::Eligibility,
    ];

    /// Fields whose value is one of the campaign's `choices`.
    pub fn is_choice(self) -> bool {
        matches!(self, FieldKey::Field | FieldKey::Group)
    }

    /// Fields holding free text whose length a campaign may limit.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldKey::Deeds
                | FieldKey::Stories
                | FieldKey::Summary
                | FieldKey::Duties
                | FieldKey::Specialty
                | FieldKey::EmployerAndPost
        )
    }

    /// Fields entered as several rows or parts.
    pub fn is_repeatable(self) -> bool {
        matches!(self, FieldKey::Resume | FieldKey::Stories)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub key: FieldKey,
    pub label: String,
    #[serde(default)]
    pub required: bool,
    /// A hard ceiling in characters as a reader counts them.
    #[serde(default)]
    pub max_chars: Option<u32>,
    /// A length the notice asks for approximately (“1500字左右”): shown, not enforced.
    #[serde(default)]
    pub about_chars: Option<u32>,
    /// For repeatable fields: how many parts (感人故事 1–2).
    #[serde(default)]
    pub min_items: Option<u32>,
    #[serde(default)]
    pub max_items: Option<u32>,
    /// The allowed values of a choice field.
    #[serde(default)]
    pub choices: Vec<String>,
    /// Whether several choices may be ticked.
    #[serde(default)]
    pub multiple: bool,
    /// Help shown under the field, taken from the form's 填表说明.
    #[serde(default)]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// Title of the form, e.g. 2024年广西“最美科技工作者”推荐表.
    pub title: String,
    /// The personal statement the applicant signs.
    #[serde(default)]
    pub declaration: Option<String>,
    pub fields: Vec<FormField>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    /// The 2-inch ID photo (小2寸正面免冠彩色照片).
    IdPhoto,
    Photo,
    Video,
    Pdf,
    /// A scan or a photo of a paper document: PDF or image (新疆 政审材料 “扫描或拍照后上传”).
    Document,
    /// Supplementary files to a text part (主要事迹, 感人故事): images, PDF or video.
    Supplement,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub key: String,
    pub name: String,
    /// The level (by key) that uploads it.
    pub level: String,
    pub kind: MaterialKind,
    #[serde(default)]
    pub required: bool,
    /// Accepted containers by content: jpg, mp4, mov, pdf.
    #[serde(default)]
    pub formats: Vec<String>,
    #[serde(default)]
    pub min_count: Option<u32>,
    #[serde(default)]
    pub max_count: Option<u32>,
    /// e.g. "2MB" (binary megabytes, as Windows shows file sizes).
    #[serde(default)]
    pub min_size: Option<String>,
    #[serde(default)]
    pub max_size: Option<String>,
    #[serde(default)]
    pub max_duration_secs: Option<u32>,
    /// e.g. ["1920x1080", "1080x1920"].
    #[serde(default)]
    pub resolutions: Vec<String>,
    /// Download names: 姓名+序号 as the notices require.
    #[serde(default)]
    pub name_by_person: bool,
    /// For supplements: the text field they belong to.
    #[serde(default)]
    pub attached_to: Option<FieldKey>,
    #[serde(default)]
    pub hint: Option<String>,
    /// Files sent in by others (东莞 初选's 市直相关部门意见): the label of the box that
    /// asks who sent each one, e.g. “来文单位”; every upload must fill it.
    #[serde(default)]
    pub sender: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EligibilityRule {
    pub key: String,
    /// The question or condition as the applicant reads it.
    pub label: String,
    #[serde(default)]
    pub strictness: Strictness,
    /// Whether the campaign's register of earlier winners decides it (matched on 身份证号码).
    #[serde(default)]
    pub register: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// Where the candidate must work, e.g. 广西 (“含区外引进”).
    #[serde(default)]
    pub work_region: Option<String>,
    #[serde(default)]
    pub work_region_note: Option<String>,
    #[serde(default)]
    pub nationality: Option<String>,
    /// Groups that may not be recommended.
    #[serde(default)]
    pub exclusions: Vec<EligibilityRule>,
    /// Earlier titles that bar a recommendation.
    #[serde(default)]
    pub prior_titles: Vec<EligibilityRule>,
}

/// Traits a leaning or a final-list constraint counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    Grassroots,
    Young,
    Female,
    Academician,
}

impl Indicator {
    /// The indicator a key names.
    pub fn from_key(key: &str) -> Option<Indicator> {
        [
            Indicator::Grassroots,
            Indicator::Young,
            Indicator::Female,
            Indicator::Academician,
        ]
        .into_iter()
        .find(|i| i.key() == key)
    }

    /// The key as the campaign file writes it.
    pub fn key(self) -> &'static str {
        match self {
            Indicator::Grassroots => "grassroots",
            Indicator::Young => "young",
            Indicator::Female => "female",
            Indicator::Academician => "academician",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Recommender,
    Selection,
}

/// A leaning the notice asks for: shown as counts, never enforced.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Guidance {
    pub audience: Audience,
    pub text: String,
    #[serde(default)]
    pub indicators: Vec<Indicator>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// Units' own first round before forwarding (新疆 初评).
    UnitRound,
    /// Formal check and screening by the organiser.
    Screening,
    /// Online vote by public and/or experts.
    Vote,
    /// Expert scoring rounds.
    Review,
    /// The final panel.
    Panel,
}

impl StageKind {
    /// The file's word for it.
    pub fn key(self) -> &'static str {
        match self {
            StageKind::UnitRound => "unit_round",
            StageKind::Screening => "screening",
            StageKind::Vote => "vote",
            StageKind::Review => "review",
            StageKind::Panel => "panel",
        }
    }

    /// What the pages call it.
    pub fn name(self) -> &'static str {
        match self {
            StageKind::UnitRound => "推荐单位初评",
            StageKind::Screening => "形式审查",
            StageKind::Vote => "网络投票",
            StageKind::Review => "专家评审",
            StageKind::Panel => "评审小组集中评选",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VoteGroup {
    pub key: String,
    pub name: String,
    pub role: Role,
    /// Weight in the merged ranking; `None` when the notice gives none.
    #[serde(default)]
    pub weight: Option<f64>,
    /// How the group's tally is scaled before the weights apply; no notice says.
    #[serde(default)]
    pub scaling: Option<Scaling>,
}

/// A vote group's tally made comparable with the other group's before weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// The candidate's votes over the group's valid votes in all.
    Share,
    /// The candidate's votes over the group's highest count.
    Top,
}

impl Scaling {
    pub fn key(self) -> &'static str {
        match self {
            Scaling::Share => "share",
            Scaling::Top => "top",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scaling::Share => "占本组有效票总数的比例",
            Scaling::Top => "相对本组最高票数的比例",
        }
    }
}

/// What is done to 刷票 once found (福州工匠 2020: “若发现恶意刷票，该候选人票数将被清零”).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sanction {
    /// The votes found are set aside; the candidate keeps the rest.
    Invalidate,
    /// The candidate's whole tally is set to zero.
    Zero,
}

/// In which order the voting page lists the candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardOrder {
    /// By number, the same for everyone.
    #[default]
    Fixed,
    /// Shuffled once per voter (no place at the top for anyone).
    Shuffled,
}

/// The rules of an online vote (`[stages.vote]`): no seed notice gives them, so each is
/// the organiser's; unset limits do not limit.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VoteRules {
    /// Voting opens and closes at these instants (Beijing time in the file).
    #[serde(default)]
    pub opens: Option<Deadline>,
    #[serde(default)]
    pub closes: Option<Deadline>,
    /// Votes one voter casts in a day, all candidates together.
    #[serde(default)]
    pub per_day: Option<u32>,
    /// Votes one voter gives one candidate in a day (齐鲁 2020: 1).
    #[serde(default)]
    pub per_candidate_per_day: Option<u32>,
    /// Votes one voter gives one candidate over the round (最美奋斗者 2019: 1).
    #[serde(default)]
    pub per_candidate: Option<u32>,
    /// Distinct candidates one voter votes for in a day (齐鲁 2020: 10).
    #[serde(default)]
    pub candidates_per_day: Option<u32>,
    /// Distinct candidates one voter votes for over the round (最美奋斗者 2019: 200).
    #[serde(default)]
    pub candidates: Option<u32>,
    /// Whether the counts show while voting is open.
    #[serde(default)]
    pub show_counts: bool,
    #[serde(default)]
    pub sanction: Option<Sanction>,
    #[serde(default)]
    pub order: CardOrder,
    /// How many candidates an expert of the 专业组 chooses on the ballot; the stage's
    /// `advance` when unset.
    #[serde(default)]
    pub ballot_size: Option<u32>,
    /// Where the signals of 刷票 fire; the defaults when unset.
    #[serde(default)]
    pub signals: Option<SignalThresholds>,
    /// A decision on suspect votes setting aside more than this many takes a second
    /// organiser; none when unset.
    #[serde(default)]
    pub second_above: Option<u32>,
}

/// Where each signal of 刷票 starts to fire (`rules::vote::signals`). The defaults suit a
/// city's vote; a campaign may set its own in `[stages.vote.signals]` (carrier NAT puts a
/// district behind few addresses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalThresholds {
    /// Votes from one network within `burst_seconds` that make a burst.
    pub burst_votes: usize,
    pub burst_seconds: i64,
    /// Votes from one address within `burst_seconds` that make a burst (below a
    /// network's: one address is one router, or a carrier's NAT for a district).
    pub address_votes: usize,
    /// Phones (voters) one device may serve before it is flagged.
    pub device_phones: usize,
    /// Phones one set of browser traits may serve on one network before it is flagged:
    /// a phone that clears its cookie keeps its traits, but many people share a model,
    /// so the bar sits higher than `device_phones`.
    pub traits_phones: usize,
    /// An hour is a surge at `surge_factor` × what the profile expects, and at least
    /// `surge_votes` votes.
    pub surge_factor: u32,
    pub surge_votes: usize,
    /// Consecutive numbers (each at most `run_gap` above the last) that make a run.
    pub run_phones: usize,
    pub run_gap: u64,
    /// 号段 the campaign lists as suspect (“170”, “1703”).
    pub prefixes: Vec<String>,
    /// Successive votes from one source whose intervals vary by less than
    /// `metronome_spread` (standard deviation over the mean) make a metronome.
    pub metronome_votes: usize,
    pub metronome_spread: f64,
}

impl Default for SignalThresholds {
    fn default() -> Self {
        SignalThresholds {
            burst_votes: 30,
            burst_seconds: 60,
            address_votes: 20,
            device_phones: 10,
            traits_phones: 30,
            surge_factor: 5,
            surge_votes: 50,
            run_phones: 5,
            run_gap: 2,
            prefixes: Vec::new(),
            metronome_votes: 20,
            metronome_spread: 0.1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub key: String,
    pub name: String,
    pub kind: StageKind,
    /// How many go on to the next stage; `None` when the notice does not say.
    #[serde(default)]
    pub advance: Option<u32>,
    /// For unit rounds: how many each unit may send on.
    #[serde(default)]
    pub per_unit_max: Option<u32>,
    /// Criteria the panel judges by.
    #[serde(default)]
    pub criteria: Vec<String>,
    /// Voting groups of an online round.
    #[serde(default)]
    pub groups: Vec<VoteGroup>,
    #[serde(default)]
    pub note: Option<String>,
    /// Experts per candidate in a `review` stage; no notice says, so the organiser's.
    #[serde(default)]
    pub reviewers: Option<u32>,
    /// Full marks of each criterion, by its name; no notice gives points.
    #[serde(default)]
    pub max_points: BTreeMap<String, u32>,
    /// How the sheets combine; the mean when the file does not say.
    #[serde(default)]
    pub aggregation: Option<Aggregation>,
    /// Below this many sheets a trimmed mean is the plain mean (at least 3).
    #[serde(default)]
    pub trim_min: Option<u32>,
    /// Equal totals are ordered by these, in turn: criterion names (higher first) or
    /// “上一阶段排名”. Still equal across the cut: the organiser decides, with a reason.
    #[serde(default)]
    pub tie_keys: Vec<String>,
    /// When the experts' sheets are due (reminders go out 3 days and 1 day before).
    #[serde(default)]
    pub deadline: Option<Deadline>,
    /// A panel's ballot: points per criterion (paper sheets keyed in) or 同意/不同意.
    #[serde(default)]
    pub ballot: Option<PanelBallot>,
    /// An online vote's rules.
    #[serde(default)]
    pub vote: Option<VoteRules>,
}

/// The tie key that is not a criterion.
pub const PREVIOUS_RANK: &str = "上一阶段排名";

impl Stage {
    /// Full marks per criterion in the criteria's order, once every criterion has them.
    pub fn points(&self) -> Option<Vec<u32>> {
        self.criteria
            .iter()
            .map(|c| self.max_points.get(c).copied())
            .collect()
    }

    pub fn aggregation(&self) -> Aggregation {
        self.aggregation.unwrap_or(Aggregation::Mean)
    }

    /// A panel that votes 同意/不同意 per candidate instead of scoring.
    pub fn approval(&self) -> bool {
        self.kind == StageKind::Panel && self.ballot == Some(PanelBallot::Approval)
    }

    /// Whether experts score it on sheets (a review, or a panel that is not a show of hands).
    pub fn scored(&self) -> bool {
        match self.kind {
            StageKind::Review => true,
            StageKind::Panel => self.ballot != Some(PanelBallot::Approval),
            _ => false,
        }
    }
}

/// How a stage's sheets make one value per candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The mean of the experts' totals.
    Mean,
    /// The highest and the lowest total dropped, then the mean.
    TrimmedMean,
    /// Each expert's totals standardised, mapped back to the stage's mean and spread.
    ZScore,
}

impl Aggregation {
    pub const ALL: [Aggregation; 3] = [
        Aggregation::Mean,
        Aggregation::TrimmedMean,
        Aggregation::ZScore,
    ];

    /// The file's word for it.
    pub fn key(self) -> &'static str {
        match self {
            Aggregation::Mean => "mean",
            Aggregation::TrimmedMean => "trimmed_mean",
            Aggregation::ZScore => "z_score",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Mean => "平均分",
            Aggregation::TrimmedMean => "去掉一个最高分和一个最低分后的平均分",
            Aggregation::ZScore => "各专家评分标准化（z 分数）后的平均分",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelBallot {
    /// Points per criterion, as a review; in a room, keyed in from paper.
    Scores,
    /// 同意/不同意 per candidate; the count of 同意 ranks.
    Approval,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    MaxShare,
    MinShare,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListConstraint {
    pub kind: ConstraintKind,
    pub indicator: Indicator,
    /// A fraction between 0 and 1 (0.10 for “不超过10%”).
    pub share: f64,
    pub label: String,
}

/// A bound on the final list's members from one 推荐组别 (a choice of the `group` field)
/// or one recommender category, as a count (“每个组别不少于 2 名”).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBound {
    #[serde(default)]
    pub group: Option<String>,
    /// A key of `recommender_categories`.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub min: Option<u32>,
    #[serde(default)]
    pub max: Option<u32>,
    /// The rule in the notice's words.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraList {
    pub key: String,
    pub name: String,
    pub size: u32,
    /// Drawn from the final list (新疆's 10 from the 20) rather than from every ranked
    /// candidate; the notice is silent, so this is the default.
    #[serde(default = "yes")]
    pub from_final: bool,
    /// Bound by the final list's shares, counted on its own size (of 10: 院士 at most 1,
    /// 45 岁以下 at least 2); the default.
    #[serde(default = "yes")]
    pub same_shares: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FinalList {
    #[serde(default)]
    pub constraints: Vec<ListConstraint>,
    /// How many of the list come from one 推荐组别 or one category of recommending unit,
    /// where the file sets it (no seed notice does; a campaign that balances its
    /// groups writes it here).
    #[serde(default)]
    pub bounds: Vec<GroupBound>,
    /// Further lists drawn at the end (新疆: 10 全国推荐人选).
    #[serde(default)]
    pub extra_lists: Vec<ExtraList>,
    /// Highest age at which a candidate counts as young (“45岁以下” includes 45);
    /// `None` when the notice does not say.
    #[serde(default)]
    pub young_max_age: Option<u32>,
    /// The day ages are counted on; no notice fixes it.
    #[serde(default)]
    pub age_reference_date: Option<toml::value::Datetime>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Publicity {
    /// Whether units publish their candidates (公示) before forwarding.
    #[serde(default)]
    pub unit_publicity: bool,
    /// Working days of the units' own 公示 before forwarding.
    #[serde(default)]
    pub unit_working_days: Option<u32>,
    /// Whether the organiser publishes the final list for 公示 before release.
    #[serde(default)]
    pub final_publicity: bool,
    /// Its length in working days, where the notice gives it.
    #[serde(default)]
    pub final_working_days: Option<u32>,
    /// Where the count of working days begins; no notice says, the usual reading is the
    /// working day after publication.
    #[serde(default)]
    pub start: PublicityStart,
    /// How to object, as the organiser's notice gives it (telephone, address); units
    /// give their own on their 公示.
    #[serde(default)]
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicityStart {
    #[default]
    NextWorkingDay,
    SameDay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperWhen {
    /// Paper goes in with the nomination, before screening (东莞).
    WithNomination,
    /// Paper only after the shortlist (广西).
    AfterShortlist,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Paper {
    pub when: PaperWhen,
    #[serde(default)]
    pub deadline: Option<Deadline>,
    /// Whether the postmark date counts (“时间以当地邮戳为准”).
    #[serde(default)]
    pub postmark_counts: bool,
    /// Word as well as PDF versions (东莞).
    #[serde(default)]
    pub word_and_pdf: bool,
    #[serde(default)]
    pub address: Option<String>,
    pub items: Vec<String>,
    /// Late or incomplete paper makes the candidate's materials invalid (东莞:
    /// “推荐材料不完整或逾期报送的，报送候选人材料无效”).
    #[serde(default)]
    pub flawed_invalid: bool,
}
