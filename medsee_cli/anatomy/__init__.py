"""Where things lie in a body and in a scan, from the image alone and without any model: the body
region each axial slice shows (`levels`), the patient's trunk (`trunk`), and the rules a target's
finding must keep (`placement`, applied by `guard`)."""
