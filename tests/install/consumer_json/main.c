/*  A program outside the zflow tree that uses the jansson-typed Centrifugo
    calls (zflow_centrifugo_json.h), built against an installed zflow. It
    needs no server: it reads a batch reply and makes a client. */
#include <zflow.h>
#include <zflow_centrifugo_json.h>
int main (void)
{
    json_t *reply = json_pack ("{s:{s:i, s:s}}", "error", "code", 102, "message", "unknown");
    const char *message = NULL;
    int code = zflow_centrifugo_json_reply_error (reply, &message);
    zflow_centrifugo_config_t config;
    zflow_centrifugo_config_init (&config);
    config.address = "http://127.0.0.1:1/api";
    zflow_centrifugo_t *client = zflow_centrifugo_new (&config, NULL);
    printf ("%d %s %s\n", code, message, client ? "client" : "none");
    zflow_centrifugo_destroy (&client);
    json_decref (reply);
    return 0;
}
