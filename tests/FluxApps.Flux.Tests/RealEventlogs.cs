namespace FluxApps.Flux.Tests;

/// <summary>Real job eventlogs (RFC 18), as flux-core 0.88.0 wrote them for each kind of ending (<c>flux job eventlog -f json</c>).</summary>
internal static class RealEventlogs
{
    public const string Completed = """
{"timestamp":1795639152.3927586,"name":"submit","context":{"userid":0,"urgency":16,"flags":0,"version":1}}
{"timestamp":1795639152.4046724,"name":"validate"}
{"timestamp":1795639152.4163613,"name":"depend"}
{"timestamp":1795639152.4164064,"name":"priority","context":{"priority":16}}
{"timestamp":1795639152.4198835,"name":"alloc","context":{"annotations":{"sched":{"resource_summary":"rank0/core0"}}}}
{"timestamp":1795639152.4239182,"name":"start"}
{"timestamp":1795639152.4484582,"name":"finish","context":{"status":0}}
{"timestamp":1795639152.4505265,"name":"release","context":{"ranks":"all","final":true}}
{"timestamp":1795639152.4506392,"name":"free"}
{"timestamp":1795639152.4506555,"name":"clean"}
""";

    public const string Exit3 = """
{"timestamp":1795639152.6300325,"name":"submit","context":{"userid":0,"urgency":16,"flags":0,"version":1}}
{"timestamp":1795639152.6415274,"name":"validate"}
{"timestamp":1795639152.6527784,"name":"depend"}
{"timestamp":1795639152.6528199,"name":"priority","context":{"priority":16}}
{"timestamp":1795639152.6565521,"name":"alloc","context":{"annotations":{"sched":{"resource_summary":"rank0/core0"}}}}
{"timestamp":1795639152.6637723,"name":"start"}
{"timestamp":1795639152.6867838,"name":"finish","context":{"status":768}}
{"timestamp":1795639152.6906202,"name":"release","context":{"ranks":"all","final":true}}
{"timestamp":1795639152.6906672,"name":"free"}
{"timestamp":1795639152.6906819,"name":"clean"}
""";

    public const string Abort = """
{"timestamp":1795639152.8605387,"name":"submit","context":{"userid":0,"urgency":16,"flags":0,"version":1}}
{"timestamp":1795639152.872268,"name":"validate"}
{"timestamp":1795639152.8837736,"name":"depend"}
{"timestamp":1795639152.8838365,"name":"priority","context":{"priority":16}}
{"timestamp":1795639152.888103,"name":"alloc","context":{"annotations":{"sched":{"resource_summary":"rank0/core0"}}}}
{"timestamp":1795639152.8922136,"name":"start"}
{"timestamp":1795639152.915257,"name":"finish","context":{"status":34304}}
{"timestamp":1795639152.9174855,"name":"release","context":{"ranks":"all","final":true}}
{"timestamp":1795639152.9175229,"name":"free"}
{"timestamp":1795639152.9175348,"name":"clean"}
""";

    public const string ExitOnErrorSegv = """
{"timestamp":1795639153.0947189,"name":"submit","context":{"userid":0,"urgency":16,"flags":0,"version":1}}
{"timestamp":1795639153.106746,"name":"validate"}
{"timestamp":1795639153.1185369,"name":"depend"}
{"timestamp":1795639153.1186557,"name":"priority","context":{"priority":16}}
{"timestamp":1795639153.1229756,"name":"alloc","context":{"annotations":{"sched":{"resource_summary":"rank0/core[0-1]"}}}}
{"timestamp":1795639153.1281283,"name":"start"}
{"timestamp":1795639153.1517394,"name":"exception","context":{"type":"exec","severity":0,"note":"sh: task rank 1 on host vm failed (Segmentation fault) and exit-on-error is set","userid":0,"wait_status":11}}
{"timestamp":1795639153.1583986,"name":"finish","context":{"status":35584}}
{"timestamp":1795639153.1610537,"name":"release","context":{"ranks":"all","final":true}}
{"timestamp":1795639153.1610951,"name":"free"}
{"timestamp":1795639153.1611178,"name":"clean"}
""";

    public const string Timeout = """
{"timestamp":1795639153.33478,"name":"submit","context":{"userid":0,"urgency":16,"flags":0,"version":1}}
{"timestamp":1795639153.3470783,"name":"validate"}
{"timestamp":1795639153.3585784,"name":"depend"}
{"timestamp":1795639153.3586152,"name":"priority","context":{"priority":16}}
{"timestamp":1795639153.3632231,"name":"alloc","context":{"annotations":{"sched":{"resource_summary":"rank0/core0"}}}}
{"timestamp":1795639153.3680546,"name":"start"}
{"timestamp":1795639154.3616424,"name":"exception","context":{"type":"timeout","severity":0,"userid":0,"note":"resource allocation expired"}}
{"timestamp":1795639154.3691752,"name":"finish","context":{"status":36352}}
{"timestamp":1795639154.3735664,"name":"release","context":{"ranks":"all","final":true}}
{"timestamp":1795639154.3736303,"name":"free"}
{"timestamp":1795639154.3736615,"name":"clean"}
""";

    public const string Unsatisfiable = """
{"timestamp":1795639154.5548263,"name":"submit","context":{"userid":0,"urgency":16,"flags":0,"version":1}}
{"timestamp":1795639154.569895,"name":"validate"}
{"timestamp":1795639154.5817521,"name":"depend"}
{"timestamp":1795639154.5817888,"name":"priority","context":{"priority":16}}
{"timestamp":1795639154.5879405,"name":"exception","context":{"type":"alloc","severity":0,"note":"unsatisfiable request: need 1 slot(s) of 100 core(s), only 0 such slot(s) available (total cores: 2)","userid":0}}
{"timestamp":1795639154.5880375,"name":"clean"}
""";

    public const string CancelRunning = """
{"timestamp":1795639155.3589077,"name":"submit","context":{"userid":0,"urgency":16,"flags":0,"version":1}}
{"timestamp":1795639155.3711579,"name":"validate"}
{"timestamp":1795639155.3827457,"name":"depend"}
{"timestamp":1795639155.382802,"name":"priority","context":{"priority":16}}
{"timestamp":1795639155.3857794,"name":"alloc","context":{"annotations":{"sched":{"resource_summary":"rank0/core0"}}}}
{"timestamp":1795639155.3920696,"name":"start"}
{"timestamp":1795639156.1697369,"name":"exception","context":{"type":"cancel","severity":0,"note":"","userid":0}}
{"timestamp":1795639156.1753039,"name":"finish","context":{"status":36608}}
{"timestamp":1795639156.1774569,"name":"release","context":{"ranks":"all","final":true}}
{"timestamp":1795639156.1775107,"name":"free"}
{"timestamp":1795639156.1775234,"name":"clean"}
""";

    public const string CancelPending = """
{"timestamp":1795639156.8962927,"name":"submit","context":{"userid":0,"urgency":0,"flags":0,"version":1}}
{"timestamp":1795639156.9079895,"name":"validate"}
{"timestamp":1795639156.9232557,"name":"depend"}
{"timestamp":1795639156.9233339,"name":"priority","context":{"priority":0}}
{"timestamp":1795639157.4203768,"name":"exception","context":{"type":"cancel","severity":0,"note":"","userid":0}}
{"timestamp":1795639157.4204793,"name":"clean"}
""";
}
